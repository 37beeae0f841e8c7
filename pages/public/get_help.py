"""Getting help: who to contact about crime, anti-social behaviour, hate crime, abuse and drugs."""

import streamlit as st

from csp_data.ui import cache, site

plan = cache.plan()
st.title("Getting help")
st.markdown("**In an emergency, or if a crime is happening now, phone 999.**")
st.markdown(
    "Below are the services the Tower Hamlets Community Safety Partnership lists for reporting crime and "
    "anti-social behaviour and for getting support."
)
for contact in plan.help:
    st.header(contact.service)
    st.markdown(site.help_lines(contact.lines))
st.header("The ASB Community Trigger")
st.markdown(
    "If you have reported anti-social behaviour and feel it has not been dealt with, you can ask for a case "
    "review, called the Community Trigger (a right under the Anti-Social Behaviour, Crime and Policing Act "
    "2014). The council, police and housing providers then look at the case together. The council's case "
    "review team, listed above, can tell you whether your case qualifies."
)
st.caption(
    "Contact details are from the Tower Hamlets Community Safety Plan 2025–2029, 'Need information and "
    "advice?' section. Phone numbers and opening hours can change; check the service's website."
)
