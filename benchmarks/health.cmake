# Health scores: scorecard scoring of 1M accounts x 32 measures against read bandwidth,
# percentile ranks against std::sort, the row-at-a-time walk and threads.
cscore_add_benchmark(bench_scoring ${CMAKE_CURRENT_LIST_DIR}/bench_scoring.cc)
