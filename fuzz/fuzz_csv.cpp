// The ISBI 2015 CSV formats: the senior annotation table and the alternate points.csv
// (document,points with a Python dict literal).
#include "cephtrace/ground_truth.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = cephtrace::fuzz::as_file(data, size, ".csv");
  for (auto format : {cephtrace::ImportFormat::IsbiSenior, cephtrace::ImportFormat::IsbiAlternate}) {
    try {
      cephtrace::import_ground_truth(format, file);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
