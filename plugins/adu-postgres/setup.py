"""Build the optional C decoder of the PostgreSQL binary COPY format."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "adu_postgres._copydec",
            sources=["src/adu_postgres/_copydec.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall"],
            optional=True,
        )
    ]
)
