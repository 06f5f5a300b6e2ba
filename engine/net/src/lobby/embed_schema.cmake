# Writes the lobby schema's text into a C++ source file, so that the lobby parses and prints JSON
# against exactly the schema it was built with, with no file to find at run time.
#   cmake -DINPUT=lobby.fbs -DOUTPUT=lobby_schema_text.cpp -P embed_schema.cmake
file(READ ${INPUT} schema_text)
string(FIND "${schema_text}" ")fbs\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )fbs\" which ends the raw string literal")
endif()
file(WRITE ${OUTPUT}.tmp
     "// Generated from ${INPUT} by embed_schema.cmake. Do not edit.\n"
     "#include \"lobby/schema_text.hpp\"\n\n"
     "namespace tickwire::net::lobby_detail {\n\n"
     "std::string_view lobby_schema_text() {\n"
     "  static constexpr const char* kText = R\"fbs(${schema_text})fbs\";\n"
     "  return kText;\n"
     "}\n\n"
     "}  // namespace tickwire::net::lobby_detail\n")
# Only touch the output when it changed, so an unrelated re-run rebuilds nothing.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
