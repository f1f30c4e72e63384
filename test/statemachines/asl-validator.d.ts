declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: unknown[];
    errorsText(separator?: string): string;
  }
  function validator(definition: unknown, options?: Record<string, unknown>): ValidationResult;
  export = validator;
}
