# Stage 1: download (or take from the mirror) and verify the raw files; prepare arrays.


rule download:
    output:
        f"{RESULTS}/data/raw/{{file}}",
    wildcard_constraints:
        file="|".join(f.replace(".", r"\.") for f in RAW_FILES),
    log:
        f"{RESULTS}/logs/download/{{file}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/download_{{file}}.tsv"
    conda:
        ENV
    script:
        "../scripts/download.py"


rule prepare_mnist:
    input:
        raw=f"{RESULTS}/data/raw/mnist.npz",
    output:
        data=f"{RESULTS}/data/mnist.npz",
        stats=f"{RESULTS}/data/mnist.json",
    log:
        f"{RESULTS}/logs/prepare_mnist.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_mnist.tsv"
    conda:
        ENV
    script:
        "../scripts/prepare_mnist.py"


rule prepare_imdb:
    input:
        archive=f"{RESULTS}/data/raw/aclImdb_v1.tar.gz",
        word_index=f"{RESULTS}/data/raw/imdb_word_index.json",
    output:
        train=f"{RESULTS}/data/imdb_train.npz",
        test=f"{RESULTS}/data/imdb_test.npz",
        tokens=f"{RESULTS}/data/imdb_tokens.json",
        stats=f"{RESULTS}/data/imdb.json",
    params:
        imdb=SHARED["data"]["imdb"],
    log:
        f"{RESULTS}/logs/prepare_imdb.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_imdb.tsv"
    conda:
        ENV
    script:
        "../scripts/prepare_imdb.py"


rule data:
    input:
        rules.prepare_mnist.output,
        rules.prepare_imdb.output,
