"""Sample school exports as SIECLE and ONDE write them (generated, deterministic): see exports.py."""
