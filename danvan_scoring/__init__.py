"""danvan_scoring — chấm điểm công tác dân vận và phong trào thi đua "Dân vận khéo".

A plain library (no Streamlit): the criteria framework, the DuckDB store, scoring,
ranking and their uncertainty. The dashboard in ``app.py`` and ``pages/`` sits on top.
"""

__version__ = "0.1.0"
