import numpy as np

from inputgrad.data.arrays import Reviews, load_mnist, load_reviews, load_tokens, pad_reviews
from inputgrad.data.prepare import prepare_imdb, prepare_mnist, tokenize, word_ids
from inputgrad.data.smoke import make_mirror

IMDB_CFG = {"num_words": 10, "start_char": 1, "oov_char": 2, "index_from": 3}


def test_tokenize_like_keras():
    text = "This movie was GREAT!<br /><br />Don't miss it... 10/10, (really)."
    assert tokenize(text) == ["this", "movie", "was", "great", "don't", "miss", "it",
                              "10", "10", "really"]


def test_word_ids_keras_conventions():
    index = {"the": 1, "movie": 2, "was": 3, "great": 4, "rare": 9}
    # id = rank + 3; ids >= num_words (10) and unknown words become oov (2)
    tokens = ["the", "movie", "was", "great", "rare", "zzz"]
    assert word_ids(tokens, index, 10) == [4, 5, 6, 7, 2, 2]


def test_prepare_imdb_from_smoke_archive(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", reviews_per_label=5)
    stats = prepare_imdb(mirror / "aclImdb_v1.tar.gz", mirror / "imdb_word_index.json",
                         tmp_path / "out", IMDB_CFG)
    for split in ("train", "test"):
        assert stats["splits"][split]["reviews"] == 10
        assert stats["splits"][split]["per_label"] == {"pos": 5, "neg": 5}
        r = load_reviews(tmp_path / "out" / f"imdb_{split}.npz")
        assert r.word_ids.dtype == np.int32 and r.offsets.dtype == np.int64
        assert len(r.word_ids) == len(r.token_idx) == r.offsets[-1]
        assert list(r.label) == [1] * 5 + [0] * 5  # pos first, then neg, by id
        assert r.review_id[0] == "pos/0_" + str(r.rating[0])
        assert r.word_ids.max() < IMDB_CFG["num_words"]
    vocab = load_tokens(tmp_path / "out" / "imdb_tokens.json")
    r = load_reviews(tmp_path / "out" / "imdb_test.npz")
    words = r.tokens(0, vocab)
    assert "unseenword" in words and "br" not in words  # OOV kept as text; <br /> stripped
    assert r.ids(0)[words.index("unseenword")] == 2


def test_prepare_mnist_shapes_and_dtypes(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", mnist_train=50, mnist_test=20)
    stats = prepare_mnist(mirror / "mnist.npz", tmp_path / "mnist.npz")
    m = load_mnist(tmp_path / "mnist.npz")
    assert m["x_train"].shape == (50, 28, 28) and m["x_train"].dtype == np.float32
    assert m["x_test"].shape == (20, 28, 28) and m["y_test"].dtype == np.int64
    assert 0.0 <= m["x_train"].min() and m["x_train"].max() == 1.0
    assert stats["x_train"]["shape"] == [50, 28, 28]
    assert (tmp_path / "mnist.json").exists()


def test_pad_reviews_pre_padding_and_truncation():
    r = Reviews(word_ids=np.array([5, 6, 7, 8, 9], np.int32), token_idx=np.arange(5),
                offsets=np.array([0, 2, 5]), review_id=np.array(["a", "b"]),
                rating=np.array([1, 9]), label=np.array([0, 1]))
    x, pos = pad_reviews(r, maxlen=4, start_char=1)
    assert x.tolist() == [[0, 1, 5, 6], [1, 7, 8, 9]]
    assert pos.tolist() == [[-1, -1, 0, 1], [-1, 0, 1, 2]]
    x, pos = pad_reviews(r, maxlen=3, start_char=1)  # pre-truncation keeps the end
    assert x.tolist() == [[1, 5, 6], [7, 8, 9]]
    assert pos.tolist() == [[-1, 0, 1], [0, 1, 2]]
