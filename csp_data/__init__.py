"""csp_data: the Tower Hamlets Community Safety Partnership dashboard's data package.

Nothing in this package imports Streamlit except ``csp_data.ui``.
"""

__all__ = ["config"]
