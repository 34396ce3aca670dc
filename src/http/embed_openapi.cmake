# cmake -DIN=openapi.json -DOUT=openapi_data.cpp -P embed_openapi.cmake
file(READ ${IN} content)
string(FIND "${content}" ")rapport_openapi\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "openapi.json contains the raw-string delimiter")
endif()
file(WRITE ${OUT}.tmp "// Generated from src/http/openapi.json by embed_openapi.cmake. Do not edit.\n"
     "#include \"http/api.h\"\n"
     "namespace rapport::http {\n"
     "std::string_view OpenApiDocument() {\n"
     "  static constexpr std::string_view kDoc = R\"rapport_openapi(${content})rapport_openapi\";\n"
     "  return kDoc;\n"
     "}\n"
     "}  // namespace rapport::http\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
