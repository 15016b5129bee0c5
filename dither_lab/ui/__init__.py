"""Streamlit helpers shared by the pages (may import streamlit; nothing else in dither_lab imports this)."""
