"""How results are shown: the findings, tables, figures and sentences of the notebooks, and the build that
joins the executed notebooks into one HTML and PDF report (`python -m cnnreport.report`)."""
