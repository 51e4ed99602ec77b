# Rules engine and risk scorecard: 1M accounts x 100 rules to intents.
cscore_add_benchmark(bench_rules ${CMAKE_CURRENT_LIST_DIR}/bench_rules.cc)
