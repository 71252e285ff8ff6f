import { failOnUnexpectedProcessWarnings } from '../support/process-warnings.js'

failOnUnexpectedProcessWarnings()
