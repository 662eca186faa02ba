"""Beyond the paper: are the text attributions faithful? ERASER-style comprehensiveness and
sufficiency of the IMDB CNN's (5.1) and the bag-of-words MLP's (5.2) word rankings, agreement
between methods, and a model-randomisation sanity check, per training seed and across seeds."""
