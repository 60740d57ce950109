// SeedLink: SeedLink 3.1 protocol (client and feed server) on SwiftNIO.
