# node-gyp build of the addon, used on Windows by scripts/build-native.mjs (POSIX builds call the
# compiler directly, with one translation unit per instruction set). MSVC gets the portable kernels
# only: run-time dispatch there would need MSVC's cpuid intrinsics (not written yet).
{
  "targets": [
    {
      "target_name": "bitlens_native",
      "sources": ["src/addon.cc", "src/hadamard.cc", "src/kernels_attention.cc", "src/lm_head.cc", "src/model.cc", "src/quant.cc", "src/ternary.cc",
                  "src/vulkan/context.cc", "src/vulkan/loader.cc", "src/vulkan/vulkan_model.cc", "src/vulkan/wrap.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
      }
    }
  ]
}
