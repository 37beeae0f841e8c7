"""The only Streamlit-aware part of csp_data: caching, the shared frame, and page components."""
