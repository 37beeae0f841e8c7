"""Getting help: who to contact about crime, anti-social behaviour, hate crime, abuse and drugs."""

import streamlit as st

from csp_data.ui import cache, site

plan = cache.plan()
st.title("Getting help")
st.markdown("**In an emergency, or if a crime is happening now, phone 999.**")
borough = site.borough_name()
if plan.help:
    st.markdown(
        f"Below are the services the {borough} Community Safety Partnership lists for reporting crime and "
        "anti-social behaviour and for getting support."
    )
else:
    st.markdown(
        "For non-emergencies phone 101, or report online at www.met.police.uk/report. No list of local "
        f"services is loaded for {borough}: it comes from the partnership's plan file."
    )
    st.info(site.no_plan_message())
for contact in plan.help:
    st.header(contact.service)
    st.markdown(site.help_lines(contact.lines))
st.header("The ASB Community Trigger")
st.markdown(
    "If you have reported anti-social behaviour and feel it has not been dealt with, you can ask for a case "
    "review, called the Community Trigger (a right under the Anti-Social Behaviour, Crime and Policing Act "
    "2014). The council, police and housing providers then look at the case together. The council's case "
    "review team" + (", listed above," if plan.help else "") + " can tell you whether your case qualifies."
)
if plan.help:
    st.caption(
        f"Contact details are from the {borough} Community Safety Plan 2025–2029, 'Need information and "
        "advice?' section. Phone numbers and opening hours can change; check the service's website."
    )
