"""Accessibility statement for the public pages."""

import streamlit as st

from csp_data.ui import site

borough = site.borough_name()

st.title("Accessibility statement")
st.markdown(
    f"This statement covers the public pages of the {borough} Community Safety dashboard: *Is {borough} "
    "getting safer?*, *Crime in your ward*, *Overview: borough scorecard*, *About the data*, *Getting help* and "
    "this page. We want as many people as possible to be able to use them."
)
st.header("What you can do")
st.markdown(
    "- use the pages on a phone, down to a screen 320 pixels wide, without scrolling sideways (except inside wide tables)\n"
    "- move around with the keyboard alone (Tab, Shift+Tab, Enter, arrow keys in lists)\n"
    "- use a screen reader: every chart has a written description and a table with the same figures\n"
    "- zoom to 200% and keep reading\n"
    "- read every result without colour: a real rise, a real fall and no real change are shown by a symbol "
    "(▲ ▼ ●) and in words"
)
st.header("How accessible the pages are")
st.markdown(
    "We aim to meet the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA, which UK "
    "public-sector websites must meet. Every public page is checked automatically with the axe-core "
    "accessibility engine in a real browser each time the dashboard is changed, at desktop and phone widths; "
    "a page that fails a check is not released."
)
st.subheader("Known limitations")
st.markdown(
    "- Charts are drawn as images. Their information is given in the text under each chart and in a table "
    "you can open below it.\n"
    "- The borough scorecard table is wider than most screens and scrolls sideways inside its box. With a "
    "keyboard, press Tab until a *Priority* link in the table has focus, then use the arrow keys to scroll.\n"
    "- Crime categories use the police's own names (for example *Violence against the person*).\n"
    "- Some focus indicators drawn by the underlying software are faint: the page links in the menu show "
    "focus as a light grey tint, and the small buttons above each chart likewise."
)
st.header("Feedback and contact")
st.markdown(
    f"If you find a problem with these pages, or need the information in another format, contact {borough} "
    + (
        "Council through its website, www.towerhamlets.gov.uk, and mention the Community Safety dashboard."
        if borough == "Tower Hamlets"
        else "Council through its website and mention the Community Safety dashboard."
    )
)
st.header("Enforcement procedure")
st.markdown(
    "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies "
    "(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with how "
    "we respond to your complaint, contact the Equality Advisory and Support Service (EASS)."
)
st.caption(
    "This statement was prepared on 29 November 2026, updated on 30 November 2026, and is reviewed when the public pages change."
)
