"""Paper vs reproduction: the claims of the paper judged on every seed against our tidy
outputs (`claims`), rendered as HTML and Markdown with the cross-seed tables, figures and the
machine (`views`), by the rule `paper_report` (`stages`)."""
