#!/usr/bin/env python3
# A GoReplay-protocol middleware that takes 150 ms over each request, many at a time (as a program that asks a
# token service would), returns each one unchanged in the order it read them, and writes to the file named by its
# argument the largest number of requests it held at once.
import queue
import sys
import threading
import time

held = queue.Queue()
count = 0
most = 0
lock = threading.Lock()
out = open(sys.argv[1], 'w')


def answer():
    global count
    while True:
        item = held.get()
        if item is None:
            return
        due, line = item
        time.sleep(max(0.0, due - time.monotonic()))
        sys.stdout.write(line)
        sys.stdout.flush()
        with lock:
            count -= 1


writer = threading.Thread(target=answer)
writer.start()
for line in sys.stdin:
    with lock:
        count += 1
        grew = count > most
        most = max(most, count)
    held.put((time.monotonic() + 0.15, line.strip() + '\n'))
    if grew:
        out.seek(0)
        out.write('%d\n' % most)
        out.truncate()
        out.flush()
held.put(None)
writer.join()
