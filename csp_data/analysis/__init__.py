"""What the numbers say, and how sure we can be: every verdict the app shows is computed here.

``stats`` holds the over-dispersed count model every verdict uses; ``scorecard``, ``trends``,
``targets``, ``composite``, ``london`` and ``publisher_gap`` build the performance pages' figures;
``areas``, ``hotspots``, ``funnel``, ``ward_profile``, ``stop_search`` and ``ttcg`` the area and
operational views; ``disclosure`` the small-number rule for public pages. No Streamlit, no drawing:
the present layer draws.
"""
