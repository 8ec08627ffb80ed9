"""Digits as inline PNG data URIs, so the browser never fetches an image file from the server.

Streamlit serves an st.image file only while the script run that made it is current: an image
still loading when a visitor pages through the gallery or moves to another page answers 404
(a broken image, and an error in the console). A 28×28 PNG is a few hundred bytes, so inlining
costs less than the extra request it replaces. st.image passes a `data:` URL through untouched.
The function lives in core.images, where the HTML report uses it too.
"""

from core.images import png_data_uri  # noqa: F401
