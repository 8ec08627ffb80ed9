"""App tier: the dashboard driven headless with Streamlit's AppTest (marker `app`)."""
