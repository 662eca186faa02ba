"""Paper vs reproduction: the claims of the paper judged against our tidy outputs
(`claims`), rendered as HTML and Markdown (`views`), by the rule `paper_report` (`stages`)."""
