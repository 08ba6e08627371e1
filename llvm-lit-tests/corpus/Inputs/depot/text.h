// Text helpers: padding, colour names, banners.
#pragma once
#include <string>

std::string pad(const std::string &s, int width = 12, char fill = '.');
const char *color_name(int i);
std::string banner();
