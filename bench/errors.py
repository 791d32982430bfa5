"""The one error a benchmark stops on (`bench.common.run_main` prints it and exits 1)."""


class BenchError(Exception):
    """The run cannot give a trustworthy figure: stop, say why, exit non-zero."""
