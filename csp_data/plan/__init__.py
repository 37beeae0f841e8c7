"""The Community Safety Plan as data: what is measured, over which periods, against which targets.

``document`` loads ``data/plan/<borough code>.toml`` (Tower Hamlets: ``E09000030.toml``; priorities, targets); ``measures`` is the measure
catalogue; ``periods`` the reporting calendar; ``breaks`` the known recording changes;
``partnership`` the figures partners enter themselves. Imports only the warehouse and config layers.
"""
