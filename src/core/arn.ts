// The ARNs of ECR resources, as policies and error messages name them.
export const repositoryArn = (region: string, accountId: string, name: string) => `arn:aws:ecr:${region}:${accountId}:repository/${name}`;

export const registryArn = (region: string, accountId: string) => `arn:aws:ecr:${region}:${accountId}:registry`;
