/*
 * xxh.h - XXH3 from the system's libxxhash.  On x86 the library also
 * exports entry points that pick SSE2, AVX2 or AVX-512 at run time; the
 * plain ones are built for the baseline CPU.  Including the dispatch
 * header redirects XXH3_64bits and friends to them: the same hash values,
 * over twice the speed on a modern CPU, which matters because every byte
 * appended or read is hashed once.
 */
#ifndef MQ_XXH_H
#define MQ_XXH_H

#include <xxhash.h>
#if defined(HAVE_XXH_X86DISPATCH_H) && (defined(__x86_64__) || defined(__i386__))
#include <xxh_x86dispatch.h>
#endif

#endif
