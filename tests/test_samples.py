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


def test_forward_is_the_former_batched_loops():
    from inputgrad.core.methods import forward, logits_of

    x = np.arange(21, dtype=np.float32).reshape(7, 3)
    calls = []

    def f(xb):
        calls.append(len(xb))
        return np.stack([xb.sum(axis=1), xb[:, 0] * 2], axis=1)

    expected = np.concatenate([f(x[s:s + 3]) for s in range(0, len(x), 3)])
    calls.clear()
    np.testing.assert_array_equal(forward(f, x, 3), expected)
    assert calls == [3, 3, 1]  # the same batches as the call sites' own loops
    np.testing.assert_array_equal(logits_of(f, x, 3), expected[:, 0])
    assert logits_of(f, x[:0], 3).shape == (0,)
