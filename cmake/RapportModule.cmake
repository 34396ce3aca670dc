# rapport_module(NAME
#                [DEPS target...]          libraries this module may use (the dependency direction)
#                [TEST_DEPS target...])    extra libraries for its unit tests
#
# One static library per folder of src/: every *.cpp below the folder except *_test.cpp and
# *_main.cpp. Every *_test.cpp below it becomes one GoogleTest binary, <name>_test, registered
# with CTest. Files are globbed with CONFIGURE_DEPENDS so adding a file needs no CMake edit.

# The common headers every target precompiles (RAPPORT_PCH): system headers only, so an edit of
# rapport's own headers never rebuilds a precompiled header.
set(RAPPORT_PCH_HEADERS <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional>
    <span> <string> <string_view> <unordered_map> <utility> <variant> <vector> <boost/json.hpp>)

function(rapport_precompile target)
  if(RAPPORT_PCH)
    target_precompile_headers(${target} PRIVATE ${RAPPORT_PCH_HEADERS} ${ARGN})
    target_compile_options(${target} PRIVATE -Xclang -fno-pch-timestamp)
  endif()
endfunction()

function(rapport_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS
       "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  set(sources ${all_sources})
  set(tests ${all_sources})
  list(FILTER sources EXCLUDE REGEX "(_test|_main)\\.cpp$")
  list(FILTER tests INCLUDE REGEX "_test\\.cpp$")

  if(sources)
    add_library(rapport_${name} STATIC ${sources})
    set(scope PUBLIC)
    rapport_precompile(rapport_${name})
  else()  # a module still being written: headers only
    add_library(rapport_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(rapport_${name} ${scope} ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(rapport_${name} ${scope} ${ARG_DEPS})
  target_include_directories(rapport_${name} ${scope} ${PROJECT_BINARY_DIR}/generated)

  if(RAPPORT_TESTS AND tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE rapport_${name} ${ARG_TEST_DEPS}
                          GTest::gtest GTest::gmock GTest::gtest_main)
    rapport_precompile(${name}_test <gtest/gtest.h> <gmock/gmock.h>)
    # One CTest test per binary, not per test case: a sanitized process start and a throwaway
    # PostgreSQL cluster per case cost more than most cases themselves (`make test` on 2 cores).
    # A failure prints the binary's GoogleTest output; run one case with --gtest_filter.
    add_test(NAME ${name}_test COMMAND ${name}_test --gtest_brief=1 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(${name}_test PROPERTIES LABELS unit TIMEOUT 900)
  endif()
endfunction()
