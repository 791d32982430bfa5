"""Thin views at ÉduConnect's paths: single sign-on (`sso`), single logout (`slo`), metadata."""
