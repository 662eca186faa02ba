"""data.samples.sample_rows draws exactly what each section's own copy drew before."""

import numpy as np

from inputgrad.data.samples import sample_rows


def test_sample_rows_matches_the_former_copies():
    for seed in (0, 3, 11):
        for n_total, n in ((100, 10), (5, 10), (7, 0)):
            rng = np.random.default_rng(seed)  # checks.select_digits, sensitivity.sample_rows
            expected = np.sort(rng.choice(n_total, size=min(n, n_total), replace=False))
            np.testing.assert_array_equal(sample_rows(n_total, n, seed), expected)
        eligible = np.array([2, 3, 5, 8, 13, 21, 34])
        rng = np.random.default_rng(seed)  # text_faithfulness.select_reviews, anomaly.text_sample
        expected = np.sort(rng.choice(eligible, size=min(4, len(eligible)), replace=False))
        np.testing.assert_array_equal(sample_rows(eligible, 4, seed), expected)
        rng = np.random.default_rng(seed)  # imdb_cnn.select_reviews: the order drawn
        expected = rng.choice(eligible, size=min(9, len(eligible)), replace=False)
        np.testing.assert_array_equal(sample_rows(eligible, 9, seed, sort=False), expected)
