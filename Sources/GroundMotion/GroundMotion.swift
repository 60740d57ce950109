// GroundMotion: instrument response, spectral integration, Wood-Anderson simulation, instrumental intensity.
