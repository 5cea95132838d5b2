"""The ``localvpc`` command line. Imports every layer below it, never the other way round."""
