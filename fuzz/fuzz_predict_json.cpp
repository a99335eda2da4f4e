// A predict result or batch, as read by evaluate --predictions and analyze --landmarks.
#include "cephtrace/analysis.hpp"
#include "cephtrace/evaluate.hpp"
#include "cephtrace/limits.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = cephtrace::parse_json(cephtrace::fuzz::as_text(data, size), "fuzz.json");
  } catch (const std::exception&) {
    return 0;
  }
  try {
    cephtrace::predictions_from_json(j, "fuzz.json");
  } catch (const std::exception&) {
  }
  try {
    cephtrace::landmark_sets_from_json(j);
  } catch (const std::exception&) {
  }
  return 0;
}
