// Canonical ground-truth JSON (evaluate --gt-dir, import --format canonical).
#include "cephtrace/ground_truth.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto aliases = cephtrace::AliasTable::builtin();
  try {
    cephtrace::ground_truth_from_json(std::string(cephtrace::fuzz::as_text(data, size)), "fuzz.json", aliases);
  } catch (const std::exception&) {
  }
  return 0;
}
