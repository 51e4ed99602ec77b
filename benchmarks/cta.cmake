cscore_add_benchmark(bench_cta bench_cta.cc)
