# Logistic churn model: Newton fit of 1M x 32 rows against one X^T X pass.
cscore_add_benchmark(bench_model ${CMAKE_CURRENT_LIST_DIR}/bench_model.cc)
