import { AppConfig, RegistryConfig } from './app-config';

export function findRegistryByName(config: AppConfig, name: string): RegistryConfig | undefined {
  return config.registries.find((registry) => registry.name === name);
}

/** Finds the registry whose configured host names include the host of an image reference. */
export function findRegistryByHost(config: AppConfig, host: string): RegistryConfig | undefined {
  const normalized = host.toLowerCase();
  return config.registries.find((registry) => registry.hosts.includes(normalized));
}
