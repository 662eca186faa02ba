# Stage 1: download (or take from the mirror) and verify the raw files; prepare arrays.


rule download:
    output:
        raw=results("data/raw/{file}"),
    log:
        logs("download", "{file}"),
    benchmark:
        bench("download", "{file}")
    wildcard_constraints:
        file="|".join(f.replace(".", r"\.") for f in RAW_FILES),
    conda:
        ENV
    resources:
        **resources_of("download"),
    params:
        cfg=config["download"],
    script:
        "../scripts/download.py"


rule prepare_mnist:
    input:
        raw=results("data/raw/mnist.npz"),
    output:
        data=results("data/mnist.npz"),
        stats=results("data/mnist.json"),
    log:
        logs("prepare_mnist"),
    benchmark:
        bench("prepare_mnist")
    conda:
        ENV
    resources:
        **resources_of("prepare_mnist"),
    params:
        cfg={"canonical_counts": config["download"]["canonical_counts"]},
    script:
        "../scripts/prepare_mnist.py"


rule prepare_imdb:
    input:
        archive=results("data/raw/aclImdb_v1.tar.gz"),
        word_index=results("data/raw/imdb_word_index.json"),
    output:
        train=results("data/imdb_train.npz"),
        test=results("data/imdb_test.npz"),
        tokens=results("data/imdb_tokens.json"),
        stats=results("data/imdb.json"),
    log:
        logs("prepare_imdb"),
    benchmark:
        bench("prepare_imdb")
    conda:
        ENV
    resources:
        **resources_of("prepare_imdb"),
    params:
        cfg={
            "imdb": SHARED["data"]["imdb"],
            "canonical_counts": config["download"]["canonical_counts"],
        },
    script:
        "../scripts/prepare_imdb.py"


rule data:
    input:
        rules.prepare_mnist.output,
        rules.prepare_imdb.output,
