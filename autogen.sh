#!/bin/sh
# Generate configure and Makefile.in.
autoreconf -fi || { echo "autogen.sh: autoreconf failed" >&2; exit 1; }
