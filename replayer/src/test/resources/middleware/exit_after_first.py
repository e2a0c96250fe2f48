#!/usr/bin/env python3
# A GoReplay-protocol middleware that reads one message and exits with status 3 without answering.
import sys

sys.stdin.readline()
sys.stderr.write('giving up\n')
sys.exit(3)
