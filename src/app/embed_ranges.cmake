# cmake -DIN=machine-ranges.txt -DOUT=machine_ranges_data.cpp -P embed_ranges.cmake
file(READ ${IN} content)
string(FIND "${content}" ")rapport_ranges\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "the ranges file contains the raw-string delimiter")
endif()
file(WRITE ${OUT}.tmp "// Generated from data/tracking/machine-ranges.txt by embed_ranges.cmake. Do not edit.\n"
     "#include \"app/tracking_setup.h\"\n"
     "namespace rapport::app {\n"
     "std::string_view ShippedMachineRanges() {\n"
     "  static constexpr std::string_view kRanges = R\"rapport_ranges(${content})rapport_ranges\";\n"
     "  return kRanges;\n"
     "}\n"
     "}  // namespace rapport::app\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
