# Helpers that keep each src/ folder one library with one-way dependencies
# (see ../shared/ARCHITECTURE.md, "Layers").

set(CASCADE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O3 reports false -Wrestrict positives inside libstdc++'s
  # std::string (GCC bug 105329).
  list(APPEND CASCADE_WARNINGS -Wno-restrict)
endif()
if(CASCADE_WERROR)
  list(APPEND CASCADE_WARNINGS -Werror)
endif()

# cascade_library(NAME <name> SOURCES ... DEPS ...)
# Builds cascade_<name> from SOURCES; files ending in _test.cpp in the same
# folder are compiled into cascade_<name>_tests and registered with CTest.
function(cascade_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(lib cascade_${ARG_NAME})
  add_library(${lib} STATIC ${ARG_SOURCES})
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${lib} PRIVATE ${CASCADE_WARNINGS})
  target_link_libraries(${lib} PUBLIC ${ARG_DEPS})
  if(CASCADE_TESTS)
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
    if(tests)
      add_executable(${lib}_tests ${tests})
      target_compile_options(${lib}_tests PRIVATE ${CASCADE_WARNINGS})
      target_compile_definitions(${lib}_tests PRIVATE
        CASCADE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
      target_link_libraries(${lib}_tests PRIVATE ${lib} GTest::gtest GTest::gmock GTest::gtest_main)
      gtest_discover_tests(${lib}_tests DISCOVERY_TIMEOUT 60)
    endif()
  endif()
endfunction()
