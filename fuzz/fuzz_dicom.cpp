// DICOM loading through DCMTK (layout and size checks, pixel spacing, rendering).
#include "cephtrace/image_io.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cephtrace::decode_image({data, size}, "fuzz.dcm");
  } catch (const std::exception&) {
  }
  return 0;
}
