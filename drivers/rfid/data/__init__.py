"""Package data: the LLRP Toolkit definition file (see LICENSE-llrp-def.txt); a package so wheels ship it."""
