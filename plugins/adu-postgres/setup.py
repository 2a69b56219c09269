"""Build the optional C codecs of the PostgreSQL binary COPY format (decoder and encoder)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "adu_postgres._copydec",
            sources=["src/adu_postgres/_copydec.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall"],
            optional=True,
        ),
        Extension(
            "adu_postgres._copyenc",
            sources=["src/adu_postgres/_copyenc.c"],
            depends=["src/adu_postgres/copyenc_values.h", "src/adu_postgres/copyenc_net.h"],
            extra_compile_args=["-O3", "-std=c11", "-Wall"],
            optional=True,
        ),
    ]
)
