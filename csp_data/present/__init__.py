"""Turning results into things people read: charts, maps, text, downloads, the briefing pack and the
board report. No Streamlit: the same charts serve the app, the CLI and the pack.
"""
