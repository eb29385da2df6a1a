"""Writes the ```c blocks of a Markdown file, in order, to one C file.

Usage: extract_c.py IN.md OUT.c
Each block is preceded by a #line directive pointing into the document,
so compiler errors and test failures name the line of the Markdown file.
"""
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    out, block, start = [], None, 0
    with open(src, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            stripped = line.strip()
            if block is None and stripped == '```c':
                block, start = [], n + 1
            elif block is not None and stripped == '```':
                out.append('#line %d "%s"\n' % (start, src))
                out.extend(block)
                block = None
            elif block is not None:
                block.append(line)
    if block is not None:
        sys.exit('%s: unterminated ```c block at line %d' % (src, start - 1))
    if not out:
        sys.exit('%s: no ```c blocks' % src)
    with open(dst, 'w', encoding='utf-8') as f:
        f.write('/* Generated from %s by extract_c.py: edit the document. */\n'
                % src)
        f.writelines(out)


main()
