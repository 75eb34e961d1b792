# Tests of the benchmark harness, included from tests/integration/CMakeLists.txt
# (after qp_unit_test exists). bench_test: the pure parts of qp-bench.
# bench.smoke: the whole suite with tiny numbers (mock, gateway, qp-bench,
# the report); no timing is asserted, only that every run completes without
# errors and produces valid output.
qp_unit_test(bench_test
  SOURCES
    ${PROJECT_SOURCE_DIR}/tools/bench/tests/histogram_test.cc
    ${PROJECT_SOURCE_DIR}/tools/bench/tests/sse_scanner_test.cc
    ${PROJECT_SOURCE_DIR}/tools/bench/tests/requests_test.cc
  LIBS qp_bench simdjson::simdjson)

add_test(NAME bench.smoke
         COMMAND ${PROJECT_SOURCE_DIR}/tools/bench/run-suite.sh --smoke --bin-dir ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(bench.smoke PROPERTIES LABELS integration TIMEOUT 120)
