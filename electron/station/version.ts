/** The station software's version, as package.json says (bundled into the CLI). */
import packageJson from '../../package.json';

export const SOFTWARE_VERSION: string = packageJson.version;
